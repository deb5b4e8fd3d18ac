"""Patch Manager on the node (aws:runPatchBaseline): facts read from dpkg/apt or rpm/dnf by pure parsers
(debian_facts.py, rpm_facts.py), the baseline's rules applied to them (rules.py), the package managers driven
(apt.py, dnf.py), and the results reported as AWS:PatchSummary and Patch compliance (report.py)."""
