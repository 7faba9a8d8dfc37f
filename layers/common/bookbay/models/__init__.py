"""PynamoDB storage models. They never leave bookbay.repositories."""
