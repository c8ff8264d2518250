"""The page's building blocks: each module draws one part and computes nothing."""
