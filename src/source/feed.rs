//! Feed documents: sniff the body, decode it, and parse RSS, Atom or JSON Feed into entries.
