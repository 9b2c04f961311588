from openpws.cli import main

main()
