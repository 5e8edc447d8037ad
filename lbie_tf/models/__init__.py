"""models of lbie_tf."""
