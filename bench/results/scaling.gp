# written by bench/report.py; run in this folder: gnuplot scaling.gp
set terminal pngcairo noenhanced size 1400,1000 font 'sans,11'
set output 'scaling.png'
set datafile missing 'NaN'
set logscale x 2
set xrange [0.6666666666666666:768.0]
set xtics ("1" 1, "8" 8, "64" 64, "512" 512)
set grid
set key below horizontal
set xlabel 'concurrent clients (connections)'
set yrange [0:*]
set multiplot layout 2,2 title "postamt 71b0058 (+ an uncommitted webmail change, src/webd/jmap_core.c) vs Dovecot 2.3.19.1 + Postfix 3.7.11, 2 CPUs, 2026-11-26 14:56 UTC; median of runs, bars: min-max"
set title 'SMTP pipelined: delivered msgs/s'
plot 'scaling.dat' using 1:2:3:4 with yerrorlines lw 2 pt 7 lc rgb '#1f77b4' title 'postamt', '' using 1:5:6:7 with yerrorlines lw 2 pt 5 lc rgb '#d62728' title 'Dovecot + Postfix'
set title 'SMTP: server CPU-ms per message incl. delivery'
plot 'scaling.dat' using 1:8:9:10 with yerrorlines lw 2 pt 7 lc rgb '#1f77b4' title 'postamt', '' using 1:11:12:13 with yerrorlines lw 2 pt 5 lc rgb '#d62728' title 'Dovecot + Postfix'
set title 'IMAP loop: commands/s'
plot 'scaling.dat' using 1:14:15:16 with yerrorlines lw 2 pt 7 lc rgb '#1f77b4' title 'postamt', '' using 1:17:18:19 with yerrorlines lw 2 pt 5 lc rgb '#d62728' title 'Dovecot + Postfix'
set title 'IMAP loop: server CPU-ms per command'
plot 'scaling.dat' using 1:20:21:22 with yerrorlines lw 2 pt 7 lc rgb '#1f77b4' title 'postamt', '' using 1:23:24:25 with yerrorlines lw 2 pt 5 lc rgb '#d62728' title 'Dovecot + Postfix'
unset multiplot
