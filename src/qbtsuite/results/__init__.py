"""The run's records: outcomes, test records, ``results.json`` and the verdict."""
