"""Page sizes (``limit``) of the staff API's cursor lists: flags, blocks, customers, proposed
changes. The cursors themselves are ``bookbay.repositories.pagination``'s."""

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
