"""The report stage (workflow/rules/report.smk): the run's provenance and the summary page with its answers."""
