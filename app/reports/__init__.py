"""Reports' content — HTML to lay out and CSV to open in a spreadsheet — without Qt.

The PDF writers (Qt's QTextDocument and QPdfWriter) live under `app/ui/`: `pdf.py`.
"""
