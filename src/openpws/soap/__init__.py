"""The SOAP 1.1 layer: hardened parsing, envelope handling, decoding and encoding driven by the
contract's types, dispatch, the single place where errors become SOAP, and the HTTP adapter."""
