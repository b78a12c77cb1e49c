// sendguard-milter - who may send as whom, signed VERP; see sendguard-milter(8)
#include "common/daemon/daemon.h"
#include "milter/service.h"
#include "milter/settings.h"

int main(int argc, char** argv) {
    return daemons::run<milter::Settings>(
        argc, argv,
        {.name = "sendguard-milter",
         .log_name = "milter",
         .usage = "sendguard-milter [-fhv] [-c config] [-o name=value]",
         .setup = milter::make_service});
}
