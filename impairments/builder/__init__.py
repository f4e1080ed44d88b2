"""Dataset builder: source items -> plan -> impaired samples -> atomic WebDataset shards -> card.

The plan is computed up front from the config, the seed and the probed sources; each shard is
then rendered independently from its slice of the plan, so its bytes never depend on how many
workers ran or in which order they finished.
"""
