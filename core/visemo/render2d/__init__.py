"""The 2-D path: a talking-portrait video from one photo, and the video writer.

(Being built; see issue 8.)
"""
