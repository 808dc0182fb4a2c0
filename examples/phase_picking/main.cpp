// Phase picking, two ways:
//
//   phase_picking [options]             the GPD picker (Ross et al. 2018): 4-second E/N/Z windows,
//                                       classes P, S, noise, trained on a STEAD-like HDF5 file
//                                       (a synthetic one it writes, or --hdf5 FILE --csv FILE)
//   phase_picking classify FILE.mseed   class probabilities of a record's windows
//   phase_picking pick FILE.mseed       P and S picks with their times
//   phase_picking archive [options]     a two-headed picker trained on a MiniSEED archive
//
// `phase_picking --help` and `phase_picking SUBCOMMAND --help` list the options.

#include "archive_mode.h"
#include "gpd_apply.h"
#include "gpd_training.h"

#include <strata/cli_version.h>
#include <strata/main_guard.h>

#include <CLI/CLI.hpp>

int main(int argc, char **argv) {
    return strata::guarded_main("phase_picking", [&] {
        CLI::App app{"Phase picking: a GPD picker trained on a STEAD-like HDF5 file (the default), applied to "
                     "MiniSEED records (classify, pick); or a picker trained on a MiniSEED archive (archive)"};
        strata::cli::add_version_flag(app, "phase_picking");
        app.require_subcommand(0, 1);
        picking::GpdTrainSettings train;
        picking::add_gpd_train_options(app, train);
        picking::GpdApplySettings apply;
        CLI::App *classify = nullptr, *pick = nullptr;
        picking::add_gpd_apply_commands(app, apply, &classify, &pick);
        picking::ArchiveSettings archive;
        CLI::App *archive_cmd = picking::add_archive_command(app, archive);
        CLI11_PARSE(app, argc, argv);
        if (archive_cmd->parsed()) return picking::run_archive(archive);
        if (classify->parsed()) return picking::classify_record(apply);
        if (pick->parsed()) return picking::pick_record(apply);
        return picking::train_gpd(train);
    });
}
