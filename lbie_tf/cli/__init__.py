"""cli of lbie_tf."""
