"""The dashboard from a checkout: ``streamlit run app.py``; installed, ``imgsim dashboard``."""

from imgsim.dashboard.page import main

main()
