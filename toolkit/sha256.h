// SHA-256 of bytes and of files, as lowercase hex (OpenSSL's EVP digest). Used for dataset
// checksums and the prompt hashes of the sample store. Leaves out other digests.
#pragma once

#include <string>       // std::string
#include <string_view>  // std::string_view

namespace r1 {

std::string sha256_hex(std::string_view bytes);
// Streams the file; throws r1::Error naming it if it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace r1
