//! InfluxQL front end: lexer, AST, parser.
