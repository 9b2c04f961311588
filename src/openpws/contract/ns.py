"""Every XML namespace openpws reads or writes, as named constants (one place, no literals elsewhere)."""

from typing import Final

SOAP_ENV: Final = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV: Final = "http://www.w3.org/2003/05/soap-envelope"
XSI: Final = "http://www.w3.org/2001/XMLSchema-instance"
XSD: Final = "http://www.w3.org/2001/XMLSchema"
WSDL: Final = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP: Final = "http://schemas.xmlsoap.org/wsdl/soap/"
WSAW: Final = "http://www.w3.org/2006/05/addressing/wsdl"

PWS: Final = "http://projectorpsa.com/PwsProjectorServices/"
REQUESTS: Final = "http://projectorpsa.com/DataContracts/Requests/"
RESPONSES: Final = "http://projectorpsa.com/DataContracts/Responses/"
COMMON_SERVICES: Final = "http://projectorpsa.com/CommonServices/"
COMMON: Final = "http://projectorpsa.com/DataContracts/Shared/Common/"
SCHEDULING: Final = "http://projectorpsa.com/DataContracts/Shared/Scheduling/"
BILLING: Final = "http://projectorpsa.com/DataContracts/Shared/Billing/"
# WCF's arrays of simple values (ArrayOfshort and the like).
ARRAYS: Final = "http://schemas.microsoft.com/2003/10/Serialization/Arrays"

SOAP_ACTION_PREFIX: Final = "http://projectorpsa.com/PwsProjectorServices/IPwsProjectorServices/"

# Prefixes WCF uses in its responses; conforming clients ignore them, but matching them keeps our
# answers byte-comparable with the wiki's examples.
ENVELOPE_PREFIX: Final = "s"
NIL_PREFIX: Final = "i"


def qname(namespace: str, local: str) -> str:
    """Clark notation ``{namespace}local`` as lxml uses it."""
    return f"{{{namespace}}}{local}"
