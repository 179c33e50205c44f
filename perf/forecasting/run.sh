#!/bin/sh
# The LSTM-based forecasters against the baselines on the bundled series (rolling-origin backtests over each test
# split). Settings were fixed before any test result was seen: the tool's defaults for the frequency, at most 100 epochs
# with patience 20, the refitted LSTM warm-started for 5 epochs at each refit; on CO2 also a median of 5 seeds, with and
# without the refit on training + validation rows. Usage: perf/forecasting/run.sh OUTDIR
# (after `dotnet build src/LstmSimd.Cli -c Release`; LSTMSIMD overrides the tool's command).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: run.sh OUTDIR}
tool="${LSTMSIMD:-dotnet $here/../../src/LstmSimd.Cli/bin/Release/net10.0/LstmSimd.Cli.dll} backtest --epochs 100 --patience 20"
$tool --test-from 2011 --refit-lstm 5 > "$out/co2.txt"
$tool --test-from 2011 --seeds 5 > "$out/co2-seeds5.txt"
$tool --test-from 2011 --seeds 5 --refit-all > "$out/co2-seeds5-refit-all.txt"
$tool --data "$here/seattle-weather.csv" --targets temp_max --refit-lstm 5 > "$out/seattle-temp-max.txt"
$tool --data "$here/us-births-2000-2014.csv" --refit-lstm 5 > "$out/us-births.txt"
$tool --data "$here/chicago-ridership-2012-2016.csv" --targets ridership,Austin,Belmont,Western,Harlem,Addison,Kedzie,Irving_Park > "$out/chicago-ridership.txt"
# Known-future inputs (settings as above, no refits): calendar inputs on births and the stations; the stations also
# with the weather and home-game columns as covariates; births again without them, in the same build.
$tool --data "$here/us-births-2000-2014.csv" > "$out/us-births-no-refit.txt"
$tool --data "$here/us-births-2000-2014.csv" --calendar > "$out/us-births-calendar.txt"
$tool --data "$here/chicago-ridership-2012-2016.csv" --targets ridership,Austin,Belmont,Western,Harlem,Addison,Kedzie,Irving_Park --calendar > "$out/chicago-calendar.txt"
$tool --data "$here/chicago-ridership-2012-2016.csv" --targets ridership,Austin,Belmont,Western,Harlem,Addison,Kedzie,Irving_Park --calendar --covariates temp_max,percip,weather_snow,Cubs_Home,WhiteSox_Home,Bears_Home,Bulls_Home,Blackhawks_Home > "$out/chicago-calendar-covariates.txt"
