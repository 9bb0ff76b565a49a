// dockling: the complete tool, assembled from every chapter's mechanisms.
#include "chroot_root.hpp"
#include "cli.hpp"
#include "layered_root.hpp"
#include "storage_commands.hpp"

int main(int argc, char** argv)
{
    dockling::Settings settings;
    dockling::Runtime runtime;
    runtime.add<dockling::LayeredRoot>(settings);  // makes spec.rootfs from --layer; --rootfs works as before
    runtime.add<dockling::ChrootRoot>();

    dockling::CommandLine cli({"dockling", "Dockling: a container runtime you build to learn how Docker works", 0},
                              runtime, settings);
    dockling::add_storage_commands(cli, settings);
    return cli.main(argc, argv);
}
