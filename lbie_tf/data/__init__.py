"""data of lbie_tf."""
