"""encoders of lbie_tf."""
