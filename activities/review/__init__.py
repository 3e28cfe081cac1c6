"""Reviewer mode's side effects: the static analyzer that runs locked down (`analyzer/`,
copied into its own image, `image/`) and the reading of its SARIF into findings
(`sarif.py`)."""
