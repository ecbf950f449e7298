"""Personal-data privacy: free-text scanning and masking (classification, encryption to come)."""
