"""training of lbie_tf."""
