"""The SQLite import: convert (one value), render (COPY text and hash text per column), table
(batches and the content hash), plan (what is imported, in which order), pg (catalog and
drivers), run (the one transaction)."""
