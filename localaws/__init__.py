"""Local AWS for the demo and the tests: ministack plus a fake EventBridge Schema Registry."""
