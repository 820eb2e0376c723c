"""HTTP routes: ``health`` (/healthz, /readyz), ``run`` (/v1/run, /v1/status/{id}), ``models`` (/v1/models)."""
