from openssm.cli.main import main

main()
