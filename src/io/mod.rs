//! Weight interop and output files.
