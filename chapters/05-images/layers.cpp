#include "layers.hpp"

#include "digest.hpp"
#include "error.hpp"
#include "store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>
#include <zlib.h>
#include <zstd.h>

#include <array>
#include <random>

namespace dockling {

namespace fs = std::filesystem;

std::vector<std::string> chain_ids(const std::vector<std::string>& diff_ids)
{
    // EXERCISE 5.4 BEGIN: chain ids
    //   hint: the first chain id is the first diff_id; every next one is
    //   hint: sha256_digest(previous chain id + " " + this layer's diff_id) (see digest.hpp).
    std::vector<std::string> chains;
    for (const auto& diff_id : diff_ids) {
        chains.push_back(chains.empty() ? diff_id : sha256_digest(chains.back() + " " + diff_id));
    }
    return chains;
    // EXERCISE 5.4 STUB
    //: (void)diff_ids;
    //: throw ExerciseNotDone("5.4", "start with the first diff_id; then chain = sha256_digest(chain + \" \" + diff_id)");
    // EXERCISE 5.4 END
}

// ---- decompression ----------------------------------------------------------------------

/// The decoder's state: zlib's for gzip, zstd's for zstd, nothing for a plain tar.
struct Decompressor::State {
    Compression compression;
    std::function<void(const char*, size_t)> out;
    z_stream gzip{};
    ZSTD_DCtx* zstd = nullptr;
    bool stream_ended = false;  // the last input ended exactly at the end of a gzip member / zstd frame
    std::array<char, 64 * 1024> buffer{};

    void gzip_update(const char* data, size_t size);
    void zstd_update(const char* data, size_t size);
};

Decompressor::Decompressor(Compression compression, std::function<void(const char*, size_t)> out)
    : state_(std::make_unique<State>())
{
    state_->compression = compression;
    state_->out = std::move(out);
    if (compression == Compression::gzip && inflateInit2(&state_->gzip, 16 + MAX_WBITS) != Z_OK) {
        throw Error("zlib: cannot start a gzip decoder");
    }
    if (compression == Compression::zstd && (state_->zstd = ZSTD_createDCtx()) == nullptr) {
        throw Error("zstd: cannot start a decoder");
    }
    state_->stream_ended = compression == Compression::none;
}

Decompressor::~Decompressor()
{
    if (state_->compression == Compression::gzip) {
        inflateEnd(&state_->gzip);
    }
    ZSTD_freeDCtx(state_->zstd);
}

void Decompressor::State::gzip_update(const char* data, size_t size)
{
    gzip.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data));
    gzip.avail_in = static_cast<uInt>(size);
    while (gzip.avail_in > 0) {
        if (stream_ended) {  // another gzip member follows (gzip files may be concatenated)
            inflateReset(&gzip);
            stream_ended = false;
        }
        gzip.next_out = reinterpret_cast<Bytef*>(buffer.data());
        gzip.avail_out = static_cast<uInt>(buffer.size());
        int status = inflate(&gzip, Z_NO_FLUSH);
        if (status != Z_OK && status != Z_STREAM_END && status != Z_BUF_ERROR) {
            throw Error(fmt::format("the layer is not valid gzip data: {}", gzip.msg != nullptr ? gzip.msg : "inflate failed"));
        }
        out(buffer.data(), buffer.size() - gzip.avail_out);
        stream_ended = status == Z_STREAM_END;
    }
}

void Decompressor::State::zstd_update(const char* data, size_t size)
{
    ZSTD_inBuffer input{data, size, 0};
    while (input.pos < input.size) {
        ZSTD_outBuffer output{buffer.data(), buffer.size(), 0};
        size_t status = ZSTD_decompressStream(zstd, &output, &input);
        if (ZSTD_isError(status)) {
            throw Error(fmt::format("the layer is not valid zstd data: {}", ZSTD_getErrorName(status)));
        }
        out(buffer.data(), output.pos);
        stream_ended = status == 0;  // 0: a frame is complete and fully flushed
    }
}

void Decompressor::update(const char* data, size_t size)
{
    switch (state_->compression) {
    case Compression::none:
        state_->out(data, size);
        break;
    case Compression::gzip:
        state_->gzip_update(data, size);
        break;
    case Compression::zstd:
        state_->zstd_update(data, size);
        break;
    }
}

void Decompressor::finish()
{
    if (!state_->stream_ended) {
        throw Error("the compressed layer ends in the middle of its stream");
    }
}

struct UncompressedDigester::State {
    Sha256 hash;
    Decompressor decompressor;
    explicit State(Compression compression)
        : decompressor(compression, [this](const char* data, size_t size) { hash.update(data, size); })
    {
    }
};

UncompressedDigester::UncompressedDigester(Compression compression) : state_(std::make_unique<State>(compression)) {}

UncompressedDigester::~UncompressedDigester() = default;

void UncompressedDigester::update(const char* data, size_t size) { state_->decompressor.update(data, size); }

std::string UncompressedDigester::finish()
{
    state_->decompressor.finish();
    return state_->hash.finish();
}

void check_diff_id(std::string_view layer_digest, std::string_view expected, std::string_view actual)
{
    if (expected != actual) {
        throw Error(fmt::format("layer {} does not match the image config: its uncompressed digest is {}, "
                                "the config's diff_id is {}", layer_digest, actual, expected));
    }
}

// ---- unpacking (the seam with chapter 04) -------------------------------------------------

namespace {

/// Unpacks one layer into a new temporary directory next to `final_dir`, checks its
/// diff_id, and renames it to `final_dir`.
void unpack_one(const ImageStore& store, const Descriptor& layer, const std::string& diff_id, const fs::path& final_dir,
                const LayerApplier& apply)
{
    thread_local std::mt19937_64 random{std::random_device{}()};
    fs::path temporary = final_dir.parent_path() / fmt::format(".tmp-{}-{:016x}", final_dir.filename().string(), random());
    fs::create_directories(temporary);
    try {
        Sha256 uncompressed;
        apply(store.blob_path(layer.digest), temporary,
              [&](const char* data, size_t size) { uncompressed.update(data, size); });
        check_diff_id(layer.digest, diff_id, uncompressed.finish());
        sync_directory(temporary);
        if (::rename(temporary.c_str(), final_dir.c_str()) != 0) {
            if (errno != EEXIST && errno != ENOTEMPTY) {
                throw_errno("rename", final_dir.string());
            }
            fs::remove_all(temporary);  // another pull unpacked the same layer first: keep theirs
        }
    } catch (...) {
        std::error_code ignored;
        fs::remove_all(temporary, ignored);
        throw;
    }
}

}  // namespace

//! [unpack-layers]
std::vector<fs::path> unpack_layers(const ImageStore& store, const std::vector<Descriptor>& layers,
                                    const std::vector<std::string>& diff_ids, const LayerApplier& apply)
{
    if (layers.size() != diff_ids.size()) {
        throw Error(fmt::format("the manifest has {} layers but the config {} diff_ids", layers.size(), diff_ids.size()));
    }
    std::vector<std::string> chains = chain_ids(diff_ids);
    std::vector<fs::path> dirs;
    for (size_t i = 0; i < layers.size(); ++i) {
        fs::path dir = store.layer_dir(chains[i]);
        if (!fs::exists(dir)) {
            fs::create_directories(dir.parent_path());
            unpack_one(store, layers[i], diff_ids[i], dir, apply);
        }
        dirs.push_back(dir);
    }
    return dirs;
}
//! [unpack-layers]

}  // namespace dockling
