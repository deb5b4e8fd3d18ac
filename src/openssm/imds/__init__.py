"""`openssm imds`: an EC2 IMDSv2-compatible instance metadata service for labs and on-prem hypervisors."""
