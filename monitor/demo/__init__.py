"""The demo competitor site that ships with rivalwatch, and the config that watches it.

with DemoSite() as site:
    config_path = write_demo_config(site.base_url, out_dir=Path("rivalwatch-demo"))
    ...            # run the pipeline once per version
    site.step()
"""

from monitor.demo.config import demo_config_text, write_demo_config
from monitor.demo.site import DEMO_COMPETITOR, DEMO_PAGES, DemoPage, DemoSite

__all__ = ["DEMO_COMPETITOR", "DEMO_PAGES", "DemoPage", "DemoSite", "demo_config_text", "write_demo_config"]
