#!/bin/sh
# Prediction intervals of the LSTM-based forecasters on the bundled series: 80 % split-conformal intervals per step
# ahead, calibrated once on the validation forecasts and rolling (adaptive, gamma 0.05), measured on each test split.
# The same training settings as run.sh (fixed before any test result was seen). Usage: perf/forecasting/intervals.sh OUTDIR
# (after `dotnet build src/LstmSimd.Cli -c Release`; LSTMSIMD overrides the tool's command).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: intervals.sh OUTDIR}
tool="${LSTMSIMD:-dotnet $here/../../src/LstmSimd.Cli/bin/Release/net10.0/LstmSimd.Cli.dll}"
backtest="$tool backtest --epochs 100 --patience 20"
$backtest --test-from 2011 --methods lstm,hybrid,hybrid-mult,ets-lstm > "$out/co2.txt"
$backtest --data "$here/seattle-weather.csv" --targets temp_max --methods hybrid,ets-lstm > "$out/seattle-temp-max.txt"
$backtest --data "$here/chicago-ridership-2012-2016.csv" --targets ridership,Austin,Belmont,Western,Harlem,Addison,Kedzie,Irving_Park \
  --methods global,hybrid,hybrid-mult,ets-lstm > "$out/chicago-ridership.txt"
$backtest --data "$here/us-births-2000-2014.csv" --methods hybrid,hybrid-mult,ets-lstm > "$out/us-births.txt"
# A saved model over many series read back: its intervals, forecast and plot.
$backtest --data "$here/chicago-ridership-2012-2016.csv" --targets ridership,Austin,Belmont,Western,Harlem,Addison,Kedzie,Irving_Park \
  --methods hybrid --save "$out/stations-hybrid.lstm" > "$out/stations-hybrid-save.txt"
$tool forecast -m "$out/stations-hybrid.lstm" --series Belmont -o "$out/stations-hybrid.csv" --plot "$out/stations-hybrid-belmont.svg" > "$out/stations-hybrid-forecast.txt"
