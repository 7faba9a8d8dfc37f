"""HTTP edge shared by the API functions: the resolver factory, error mapping, schemas."""
