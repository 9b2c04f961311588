"""openpws: an open implementation of the Projector PSA Web Services (PWS) SOAP API."""

__version__ = "0.1.0"
