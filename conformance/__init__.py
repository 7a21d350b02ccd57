"""An outside-in conformance suite for OCI runtimes (runtime-spec), usable against any runtime
binary with runc's command line. It never imports the ``runtime`` package it may be testing."""
