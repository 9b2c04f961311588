"""What the server tells its operators: ``/metrics`` in Prometheus's format (``metrics``) and one
log line per PWS request (``logs``). Both observe each ``openpws.exchange.Exchange`` once its
response is out."""
