//! The platform seam: the one place where raw OS calls (`libc`, `std::os::unix`,
//! `std::os::windows`) may appear. Everything above it calls the portable functions here and
//! never writes `cfg`. Older code still holds raw calls of its own; they move here file by file
//! (issue 18), and new ones start here.

pub mod fs;
pub mod owner;
pub mod process;
pub mod signals;
pub mod terminal;
