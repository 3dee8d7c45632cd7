import ChkflowCLI
