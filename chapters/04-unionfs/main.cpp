// dockling-ch4: chapter 04's runtime. The root is made of read-only layers and a
// writable one (overlayfs), and containers are kept until removed.
#include "chroot_root.hpp"
#include "cli.hpp"
#include "layered_root.hpp"
#include "storage_commands.hpp"

//! [main]
int main(int argc, char** argv)
{
    dockling::Settings settings;
    dockling::Runtime runtime;
    runtime.add<dockling::LayeredRoot>(settings);  // before the root is entered: it makes spec.rootfs
    runtime.add<dockling::ChrootRoot>();

    dockling::CommandLine cli({"dockling-ch4", "Dockling, chapter 04: copy-on-write layers", 4}, runtime, settings);
    dockling::add_storage_commands(cli, settings);
    return cli.main(argc, argv);
}
//! [main]
