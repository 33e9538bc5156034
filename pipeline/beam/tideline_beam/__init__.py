"""tideline's production pipeline: one Apache Beam graph (Python SDK) for Dataflow and local runners."""
