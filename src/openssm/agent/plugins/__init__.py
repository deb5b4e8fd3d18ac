"""The agent's document plugins: aws:runShellScript and aws:runPowerShellScript (built into steps.py, which runs
a step), aws:softwareInventory and aws:refreshAssociation; document.py runs a document's steps in order."""
