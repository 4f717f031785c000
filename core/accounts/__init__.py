"""casebot core."""
