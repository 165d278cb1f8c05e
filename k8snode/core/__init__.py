"""The seams every part stands on: OS access, owned files, results, errors, console, YAML, schemas, versions."""
