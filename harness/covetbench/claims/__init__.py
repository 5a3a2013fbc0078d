"""The claims ledger: published claims judged against measurements on disk."""
