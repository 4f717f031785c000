"""Text messages: the Twilio adapter of the SMS provider port, and its webhooks' signatures."""
