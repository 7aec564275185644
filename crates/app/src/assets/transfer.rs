//! Import and export of the register.
