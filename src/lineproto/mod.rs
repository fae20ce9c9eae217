//! InfluxDB line protocol parser.
