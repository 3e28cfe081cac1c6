"""Code generation: a ServiceSpec becomes a service repository."""
