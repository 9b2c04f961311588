"""The sandbox's control plane: throwaway accounts and their clocks, behind a JSON API
(``api.py``) and the command line, which call the same operations (``control.py``)."""
