"""The agent's document plugins: aws:runShellScript and aws:runPowerShellScript (steps.py runs a step)."""
