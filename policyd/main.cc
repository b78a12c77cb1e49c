// sendguard-policyd - the lookup daemon (socketmap maps today); see sendguard-policyd(8)
#include "common/daemon/daemon.h"
#include "policyd/service.h"
#include "policyd/settings.h"

int main(int argc, char** argv) {
    return daemons::run<policyd::Settings>(
        argc, argv,
        {.name = "sendguard-policyd",
         .log_name = "policyd",
         .usage = "sendguard-policyd [-fhv] [-c config] [-o name=value]",
         .setup = policyd::make_service});
}
